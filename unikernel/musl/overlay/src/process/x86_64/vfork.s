/* Kumo: no processes in a unikernel; the runtime answers -ENOSYS. */
.global vfork
.type vfork,@function
vfork:
	sub $8,%rsp
	mov $58,%edi
	call __kumo_syscall
	add $8,%rsp
	mov %rax,%rdi
	.hidden __syscall_ret
	jmp __syscall_ret
