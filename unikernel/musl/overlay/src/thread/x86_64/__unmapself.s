/* Kumo: a detached thread's end; the runtime frees its stack once another
 * thread runs (it is still running on it here). */
.text
.global __unmapself
.type   __unmapself,@function
__unmapself:
	jmp kumo_thread_unmap_exit
