/* The host's OpenCL (ocl-icd + PoCL), for the FPGA emulator backend only. */
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
/* mallopt: the emulator makes large buffers fresh mappings (see EmulatorBackend). */
#include <malloc.h>
