// SAXPY with the Khronos C++ bindings, built from source on the default device,
// with errors as exceptions: the same on any OpenCL platform.
#define CL_HPP_ENABLE_EXCEPTIONS
#define CL_HPP_TARGET_OPENCL_VERSION 120
#define CL_HPP_MINIMUM_OPENCL_VERSION 120
#include <CL/opencl.hpp>

#include <cmath>
#include <iostream>
#include <numeric>
#include <vector>

static const char *source = R"(
__kernel void saxpy(const float a, __global const float *x, __global float *y) {
    size_t i = get_global_id(0);
    y[i] = a * x[i] + y[i];
})";

int main()
{
    try {
        cl::Device device = cl::Device::getDefault();
        cl::Context context(device);
        cl::CommandQueue queue(context, device);
        cl::Program program(context, source, true);
        auto saxpy = cl::KernelFunctor<cl_float, cl::Buffer, cl::Buffer>(program, "saxpy");
        std::vector<float> x(2048), y(2048, 1.0f);
        std::iota(x.begin(), x.end(), 0.0f);
        cl::Buffer bx(context, x.begin(), x.end(), true);
        cl::Buffer by(context, y.begin(), y.end(), false);
        saxpy(cl::EnqueueArgs(queue, cl::NDRange(x.size())), 3.0f, bx, by);
        cl::copy(queue, by, y.begin(), y.end());
        double sum = std::accumulate(y.begin(), y.end(), 0.0);
        bool right = true;
        for (size_t i = 0; i < x.size(); i++) right = right && std::fabs(y[i] - (3.0f * x[i] + 1.0f)) < 1e-3f;
        std::cout << "saxpy: " << x.size() << " elements, sum " << sum << ", " << (right ? "PASS" : "FAIL") << "\n";
        return right ? 0 : 1;
    } catch (const cl::Error &e) {
        std::cerr << "OpenCL error " << e.err() << " in " << e.what() << "\n";
        return 1;
    }
}
