#!/bin/sh
# Runs a test binary with umockdev's preload library. In sanitizer builds ASan
# wants its runtime first in the library list, which a preload cannot allow;
# telling it not to check is safe here (umockdev only wraps libc calls).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
exec umockdev-wrapper "$@"
