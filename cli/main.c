/* placeholder: being written */
typedef int rv_placeholder_main;
int main(void) { return 0; }
