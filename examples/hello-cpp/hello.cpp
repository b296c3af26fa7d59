// Hello in C++: iostream, a string and a vector, built with Kumo's libstdc++.
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    std::vector<std::string> args(argv, argv + argc);
    std::cout << "hello from C++ in a Kumo unikernel" << '\n';
    for (size_t i = 0; i < args.size(); i++) std::cout << "argv[" << i << "] = " << args[i] << '\n';
    return 0;
}
