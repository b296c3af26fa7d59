// Sobel edge magnitude of an 8-bit grey image; border pixels are 0.
__kernel void sobel(__global const uchar *in, __global uchar *out, const int width, const int height)
{
    int x = get_global_id(0), y = get_global_id(1);
    if (x >= width || y >= height) return;
    if (x == 0 || y == 0 || x == width - 1 || y == height - 1) { out[y * width + x] = 0; return; }
#define P(dx, dy) (int)in[(y + (dy)) * width + x + (dx)]
    int gx = -P(-1, -1) - 2 * P(-1, 0) - P(-1, 1) + P(1, -1) + 2 * P(1, 0) + P(1, 1);
    int gy = -P(-1, -1) - 2 * P(0, -1) - P(1, -1) + P(-1, 1) + 2 * P(0, 1) + P(1, 1);
    int m = (abs(gx) + abs(gy)) / 2;
    out[y * width + x] = (uchar)(m > 255 ? 255 : m);
}
