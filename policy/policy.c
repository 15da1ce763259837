/* placeholder: being written */
typedef int rv_placeholder_policy;
