# postureclip firmware application package.
VERSION = (0, 1, 0)
