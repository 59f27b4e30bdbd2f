# Runs one firmware test function under MicroPython (or CPython) and reports by exit status:
#   micropython tests/firmware/mprun.py MODULE FUNCTION
# 0 = passed; 1 = failed, with the traceback on stdout.
import sys


def main():
    module_name, func_name = sys.argv[1], sys.argv[2]
    module = __import__(module_name)
    func = getattr(module, func_name)
    try:
        func()
    except BaseException as e:  # report every failure, including SystemExit from the code
        if hasattr(sys, "print_exception"):
            sys.print_exception(e)
        else:
            import traceback
            traceback.print_exc(file=sys.stdout)
        sys.exit(1)
    print("PASS", module_name, func_name)


main()
