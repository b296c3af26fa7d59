// Vector addition written the way FPGA vendors write host code: the C++
// bindings (CL/opencl.hpp), a helper that finds the Xilinx platform and its
// first accelerator, an .xclbin named after the device, profiling events.
#include "xcl2.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <numeric>

int main(int argc, char **argv)
{
    const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 0) : 1 << 16;
    try {
        std::vector<cl::Device> devices = xcl::get_devices("Xilinx");
        if (devices.empty()) { std::cerr << "no accelerator on the Xilinx platform\n"; return 1; }
        cl::Device device = devices[0];
        std::string name = device.getInfo<CL_DEVICE_NAME>();
        std::string binary_file = xcl::find_binary_file("krnl_vadd", name);
        std::cout << "device " << name << ", loading " << binary_file << "\n";
        std::vector<unsigned char> binary = xcl::read_binary_file(binary_file);

        cl::Context context(device);
        cl::CommandQueue queue(context, device, CL_QUEUE_PROFILING_ENABLE);
        cl::Program::Binaries binaries{binary};
        cl::Program program(context, {device}, binaries);
        cl::Kernel kernel(program, "vadd");

        std::vector<float> a(n), b(n), c(n);
        std::iota(a.begin(), a.end(), 0.0f);
        std::transform(a.begin(), a.end(), b.begin(), [](float x) { return 2.0f * x; });
        cl::Buffer da(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * sizeof(float), a.data());
        cl::Buffer db(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, n * sizeof(float), b.data());
        cl::Buffer dc(context, CL_MEM_WRITE_ONLY, n * sizeof(float));
        kernel.setArg(0, da);
        kernel.setArg(1, db);
        kernel.setArg(2, dc);
        kernel.setArg(3, static_cast<cl_uint>(n));
        cl::Event done;
        queue.enqueueNDRangeKernel(kernel, cl::NullRange, cl::NDRange(n), cl::NullRange, nullptr, &done);
        queue.enqueueReadBuffer(dc, CL_TRUE, 0, n * sizeof(float), c.data());
        cl_ulong start = done.getProfilingInfo<CL_PROFILING_COMMAND_START>();
        cl_ulong end = done.getProfilingInfo<CL_PROFILING_COMMAND_END>();
        size_t wrong = 0;
        for (size_t i = 0; i < n; i++) wrong += c[i] != a[i] + b[i];
        std::cout << "vadd " << n << " elements: " << (wrong ? "FAIL" : "PASS") << " (" << wrong << " wrong), kernel "
                  << (end >= start ? "timed" : "not timed") << "\n";
        return wrong ? 1 : 0;
    } catch (const cl::Error &e) {
        std::cerr << "OpenCL error " << e.err() << " in " << e.what() << "\n";
    } catch (const std::exception &e) {
        std::cerr << e.what() << "\n";
    }
    return 1;
}
