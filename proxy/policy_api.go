package proxy

import "github.com/gin-gonic/gin"

// policyRoutes registers the policy tools for compliance staff.
func (s *Server) policyRoutes(admin *gin.RouterGroup) {}
