/* Kumo: only reached by a detached thread's exit, which cannot exist here. */
.text
.global __unmapself
.type   __unmapself,@function
__unmapself:
	sub $8,%rsp
	mov $60,%edi
	xor %esi,%esi
	call __kumo_syscall
	hlt
