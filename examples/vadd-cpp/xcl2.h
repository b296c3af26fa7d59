#pragma once
#define CL_HPP_ENABLE_EXCEPTIONS
#define CL_HPP_CL_1_2_DEFAULT_BUILD
#define CL_HPP_TARGET_OPENCL_VERSION 120
#define CL_HPP_MINIMUM_OPENCL_VERSION 120
#include <CL/opencl.hpp>
#include <string>
#include <vector>

namespace xcl {
std::vector<cl::Device> get_devices(const std::string &vendor_name, cl_device_type type = CL_DEVICE_TYPE_ACCELERATOR);
std::string find_binary_file(const std::string &kernel, const std::string &device_name, const char *directory = "/bitstreams");
std::vector<unsigned char> read_binary_file(const std::string &path);
}
