// C++ in a unikernel: static constructors and destructors, iostream, strings,
// vectors, smart pointers, exceptions, RTTI, chrono, std::thread with a mutex.
// Argument "throw": an exception nobody catches.
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

std::string greeting(const std::string &who, const char *punctuation = "!");

struct Announcer {
    Announcer() { std::cout << "static constructor ran\n"; }
    ~Announcer() { std::cout << "static destructor ran\n"; }
} announcer;

struct Shape { virtual ~Shape() = default; virtual double area() const = 0; };
struct Square : Shape { double side; explicit Square(double s) : side(s) {} double area() const override { return side * side; } };

int main(int argc, char **argv)
{
    std::cout << greeting("C++") << "\n";
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 3; i++) shapes.push_back(std::make_unique<Square>(i));
    double total = 0;
    for (const auto &s : shapes) total += s->area();
    std::ostringstream text;
    text << shapes.size() << " squares, total area " << total;
    std::cout << text.str() << "\n";
    try {
        throw std::runtime_error("thrown and caught");
    } catch (const std::exception &e) {
        std::cout << "exception: " << e.what() << "\n";
    }
    std::cout << "rtti: " << (dynamic_cast<Square *>(shapes[0].get()) != nullptr) << " "
              << (typeid(*shapes[1]) == typeid(Square)) << "\n";
    auto start = std::chrono::steady_clock::now();
    std::mutex lock;
    long sum = 0;
    std::vector<std::thread> workers;
    for (int i = 1; i <= 4; i++) workers.emplace_back([&, i] { std::lock_guard<std::mutex> hold(lock); sum += i; });
    for (auto &w : workers) w.join();
    std::cout << "threads: sum " << sum << ", clock moved " << (std::chrono::steady_clock::now() >= start) << "\n";
    if (argc > 1 && std::string(argv[1]) == "throw") throw std::logic_error("nobody catches this");
    return 0;
}
