/* Kumo: threads are the runtime's (unikernel/threads.c); the arguments,
 * the seventh on the stack, are already where kumo_clone takes them. */
.text
.global __clone
.hidden __clone
.type   __clone,@function
__clone:
	jmp kumo_clone
