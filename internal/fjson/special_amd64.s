//go:build amd64 && !purego

#include "textflag.h"

// func scanSpecial32(b []byte) int
TEXT ·scanSpecial32(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	ANDQ $~31, CX
	XORQ AX, AX
	CMPQ CX, $0
	JEQ  done

	MOVL         $0x22, DX
	MOVD         DX, X1
	VPBROADCASTB X1, Y1   // '"'
	MOVL         $0x5c, DX
	MOVD         DX, X2
	VPBROADCASTB X2, Y2   // '\\'
	MOVL         $0x20, DX
	MOVD         DX, X3
	VPBROADCASTB X3, Y3   // 0x20: signed, x < 0x20 is a control character or a byte from 0x80

loop:
	VMOVDQU   (SI)(AX*1), Y0
	VPCMPEQB  Y0, Y1, Y4
	VPCMPEQB  Y0, Y2, Y5
	VPCMPGTB  Y0, Y3, Y6  // Y6 = 0x20 > Y0, signed
	VPOR      Y4, Y5, Y4
	VPOR      Y4, Y6, Y4
	VPMOVMSKB Y4, DX
	TESTL     DX, DX
	JNZ       found
	ADDQ      $32, AX
	CMPQ      AX, CX
	JB        loop
	VZEROUPPER
	JMP       done

found:
	BSFL       DX, DX
	ADDQ       DX, AX
	VZEROUPPER

done:
	MOVQ AX, ret+24(FP)
	RET
