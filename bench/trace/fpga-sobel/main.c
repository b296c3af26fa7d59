/* The trace FPGA function with bitstream sobel (see ../fpga-sleep.inc). */
#include "../fpga-sleep.inc"
