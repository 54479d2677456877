# Writes OUT, a header defining NOLB_BUILD_COMMIT as `git describe` of SOURCE_DIR ("7f405f2",
# "7f405f2-dirty" with uncommitted changes, "" outside a git checkout), and leaves the file
# alone when that is what it already says. Run by the nolb-compare-commit target at every build.
execute_process(
    COMMAND git -C ${SOURCE_DIR} describe --always --dirty --abbrev=7
    OUTPUT_VARIABLE commit
    OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET
    RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    set(commit "")
endif()
set(text "// Written by src/nolb-compare/commit.cmake at build time.\n#pragma once\n#define NOLB_BUILD_COMMIT \"${commit}\"\n")
# configure_file's rule: an unchanged file is not written again.
file(CONFIGURE OUTPUT ${OUT} CONTENT "${text}" @ONLY)
