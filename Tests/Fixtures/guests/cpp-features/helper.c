// A "C" helper in the style FPGA vendors ship: named .c, built as C++.
#include <string>

std::string greeting(const std::string &who, const char *punctuation = "!")
{
    return "hello, " + who + punctuation;
}
