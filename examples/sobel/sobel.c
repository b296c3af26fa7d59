/* Sobel edge detection on an FPGA: reads a binary PGM (P5) image from the
 * file tree, filters it with the sobel kernel, checks every pixel against a
 * CPU reference and writes the edges to stdout as a PGM. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call) do { cl_int e_ = (call); if (e_ != CL_SUCCESS) { \
    fprintf(stderr, "%s failed: %d (line %d)\n", #call, e_, __LINE__); return 1; } } while (0)

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(*size + 1);
    if (data && fread(data, 1, *size, f) != *size) { free(data); data = NULL; }
    if (data) data[*size] = 0;
    fclose(f);
    return data;
}

static unsigned char *read_pgm(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    int max;
    if (fscanf(f, "P5 %d %d %d", w, h, &max) != 3 || *w <= 0 || *h <= 0 || *w > 8192 || *h > 8192 || max != 255) {
        fclose(f);
        return NULL;
    }
    fgetc(f);
    unsigned char *pixels = malloc((size_t)*w * *h);
    if (pixels && fread(pixels, 1, (size_t)*w * *h, f) != (size_t)*w * *h) { free(pixels); pixels = NULL; }
    fclose(f);
    return pixels;
}

static unsigned char reference(const unsigned char *in, int w, int h, int x, int y)
{
    if (x == 0 || y == 0 || x == w - 1 || y == h - 1) return 0;
#define P(dx, dy) (int)in[(y + (dy)) * w + x + (dx)]
    int gx = -P(-1, -1) - 2 * P(-1, 0) - P(-1, 1) + P(1, -1) + 2 * P(1, 0) + P(1, 1);
    int gy = -P(-1, -1) - 2 * P(0, -1) - P(1, -1) + P(-1, 1) + 2 * P(0, 1) + P(1, 1);
    int m = (abs(gx) + abs(gy)) / 2;
    return (unsigned char)(m > 255 ? 255 : m);
}

int main(int argc, char **argv)
{
    const char *xclbin = argc > 1 ? argv[1] : getenv("KUMO_BITSTREAM");
    const char *image = argc > 2 ? argv[2] : "/data/shapes.pgm";
    int w, h;
    unsigned char *in = read_pgm(image, &w, &h);
    if (!xclbin || !in) { fprintf(stderr, "usage: sobel FILE.xclbin IMAGE.pgm (binary P5, 8-bit)\n"); return 2; }
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    CHECK(clGetPlatformIDs(1, &platform, NULL));
    CHECK(clGetDeviceIDs(platform, CL_DEVICE_TYPE_DEFAULT, 1, &device, NULL));
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CHECK(err);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &err);
    CHECK(err);
    size_t size;
    unsigned char *binary = read_file(xclbin, &size);
    if (!binary) { fprintf(stderr, "cannot read %s\n", xclbin); return 1; }
    cl_program program = clCreateProgramWithBinary(context, 1, &device, &size, (const unsigned char **)&binary, NULL, &err);
    if (err != CL_SUCCESS) {
        char path[512];
        snprintf(path, sizeof path, "%.*s.cl", (int)(strlen(xclbin) - 7), xclbin);
        char *source = (char *)read_file(path, &size);
        if (!source) { fprintf(stderr, "%s refused (%d), %s missing\n", xclbin, err, path); return 1; }
        program = clCreateProgramWithSource(context, 1, (const char **)&source, NULL, &err);
        CHECK(err);
    }
    CHECK(clBuildProgram(program, 1, &device, NULL, NULL, NULL));
    cl_kernel kernel = clCreateKernel(program, "sobel", &err);
    CHECK(err);
    size_t pixels = (size_t)w * h;
    cl_mem din = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR, pixels, in, &err); CHECK(err);
    cl_mem dout = clCreateBuffer(context, CL_MEM_WRITE_ONLY | CL_MEM_ALLOC_HOST_PTR, pixels, NULL, &err); CHECK(err);
    CHECK(clSetKernelArg(kernel, 0, sizeof din, &din));
    CHECK(clSetKernelArg(kernel, 1, sizeof dout, &dout));
    CHECK(clSetKernelArg(kernel, 2, sizeof w, &w));
    CHECK(clSetKernelArg(kernel, 3, sizeof h, &h));
    size_t global[2] = { (size_t)w, (size_t)h };
    CHECK(clEnqueueNDRangeKernel(queue, kernel, 2, NULL, global, NULL, 0, NULL, NULL));
    unsigned char *out = clEnqueueMapBuffer(queue, dout, CL_TRUE, CL_MAP_READ, 0, pixels, 0, NULL, NULL, &err);
    CHECK(err);
    int wrong = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) wrong += out[y * w + x] != reference(in, w, h, x, y);
    if (wrong) { fprintf(stderr, "sobel: %d pixels differ from the CPU reference\n", wrong); return 1; }
    printf("P5\n%d %d\n255\n", w, h);
    fwrite(out, 1, pixels, stdout);
    CHECK(clEnqueueUnmapMemObject(queue, dout, out, 0, NULL, NULL));
    CHECK(clFinish(queue));
    clReleaseMemObject(din); clReleaseMemObject(dout);
    clReleaseKernel(kernel); clReleaseProgram(program); clReleaseCommandQueue(queue); clReleaseContext(context);
    return 0;
}
