/* The trace FPGA function with bitstream vadd (see ../fpga-sleep.inc). */
#include "../fpga-sleep.inc"
