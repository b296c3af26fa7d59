int main(void)
{
    volatile int *nothing = 0;
    *nothing = 42; /* page 0 is unmapped: a fault */
    return 0;
}
