#include <stdio.h>
int main(void) { puts("lethe"); return 0; }
