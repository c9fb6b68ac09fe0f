//go:build amd64 && !purego

#include "textflag.h"

// func indexURLMark32(b []byte) int
TEXT ·indexURLMark32(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	XORQ AX, AX
	SUBQ $1, CX           // positions with a byte after them
	JLE  none
	ANDQ $~31, CX
	JEQ  done

	MOVL         $0x2f, DX
	MOVD         DX, X1
	VPBROADCASTB X1, Y1   // '/'
	MOVL         $0x5c, DX
	MOVD         DX, X2
	VPBROADCASTB X2, Y2   // '\\'
	MOVL         $0x75, DX
	MOVD         DX, X3
	VPBROADCASTB X3, Y3   // 'u'

loop:
	VMOVDQU   (SI)(AX*1), Y0  // b[i]
	VMOVDQU   1(SI)(AX*1), Y7 // b[i+1]
	VPCMPEQB  Y0, Y1, Y4      // b[i] == '/'
	VPCMPEQB  Y0, Y2, Y5      // b[i] == '\\'
	VPCMPEQB  Y7, Y1, Y6      // b[i+1] == '/'
	VPCMPEQB  Y7, Y3, Y8      // b[i+1] == 'u'
	VPOR      Y4, Y5, Y4      // '/' or '\\' ...
	VPAND     Y4, Y6, Y4      // ... then '/'
	VPAND     Y5, Y8, Y5      // '\\' then 'u'
	VPOR      Y4, Y5, Y4
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
	JMP        done

none:
	XORQ AX, AX

done:
	MOVQ AX, ret+24(FP)
	RET
