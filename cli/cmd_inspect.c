/* placeholder: being written */
typedef int rv_placeholder_cmd_inspect;
