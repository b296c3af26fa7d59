// A helper in the style FPGA vendors ship with their examples (named .c, built
// with g++): find the platform by name, the first accelerator on it, and the
// binary container whose file name is derived from the device's name.
#include "xcl2.h"

#include <fstream>
#include <iostream>
#include <iterator>

namespace xcl {

std::vector<cl::Device> get_devices(const std::string &vendor_name, cl_device_type type)
{
    std::vector<cl::Platform> platforms;
    cl::Platform::get(&platforms);
    for (auto &platform : platforms) {
        if (platform.getInfo<CL_PLATFORM_NAME>() != vendor_name) continue;
        std::vector<cl::Device> devices;
        platform.getDevices(type, &devices);
        return devices;
    }
    throw std::runtime_error("no platform named " + vendor_name);
}

std::string find_binary_file(const std::string &kernel, const std::string &device_name, const char *directory)
{
    std::string device = device_name;
    for (auto &c : device) if (c == ':' || c == '.') c = '_';
    return std::string(directory) + "/" + kernel + ".hw." + device + ".xclbin";
}

std::vector<unsigned char> read_binary_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace xcl
