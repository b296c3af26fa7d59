// C = A x B for square n x n matrices (n a multiple of TILE), tiled through local memory.
#define TILE 16
__kernel void matmul(__global const float *a, __global const float *b, __global float *c, const int n,
                     __local float *ta, __local float *tb)
{
    int row = get_global_id(1), col = get_global_id(0);
    int lr = get_local_id(1), lc = get_local_id(0);
    float sum = 0.0f;
    for (int t = 0; t < n; t += TILE) {
        ta[lr * TILE + lc] = a[row * n + t + lc];
        tb[lr * TILE + lc] = b[(t + lr) * n + col];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TILE; k++) sum += ta[lr * TILE + k] * tb[k * TILE + lc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    c[row * n + col] = sum;
}
