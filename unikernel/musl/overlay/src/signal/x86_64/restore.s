/* Kumo: signals are never delivered, so rt_sigreturn is unreachable. */
	nop
.global __restore_rt
.hidden __restore_rt
.type __restore_rt,@function
__restore_rt:
	mov $15,%edi
	call __kumo_syscall
	hlt
.size __restore_rt,.-__restore_rt
