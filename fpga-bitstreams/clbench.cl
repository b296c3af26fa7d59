// Kernels for the transport benchmark: a trivial one, to time the cost of a launch.
__kernel void touch(__global int *x, const int v) { if (get_global_id(0) == 0) x[0] += v; }
