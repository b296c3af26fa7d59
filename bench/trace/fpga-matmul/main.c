/* The trace FPGA function with bitstream matmul (see ../fpga-sleep.inc). */
#include "../fpga-sleep.inc"
