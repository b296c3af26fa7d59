/* Kumo: one vCPU, no threads; clone fails with the runtime's -ENOSYS. */
.text
.global __clone
.hidden __clone
.type   __clone,@function
__clone:
	sub $8,%rsp
	mov $56,%edi
	call __kumo_syscall
	add $8,%rsp
	ret
