# Run at every build (cmake -P, from the git_commit target): writes OUTPUT from git_commit.h.in
# with the commit SOURCE_DIR is checked out at ("" outside git). configure_file rewrites OUTPUT
# only when its content changes, so an unchanged commit recompiles nothing.
execute_process(COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
                OUTPUT_VARIABLE commit RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
set(MYSQLCLONE_GIT_COMMIT "")
if(rc EQUAL 0)
  execute_process(COMMAND git -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  set(MYSQLCLONE_GIT_COMMIT "${commit}")
  if(NOT changes STREQUAL "")
    string(APPEND MYSQLCLONE_GIT_COMMIT "-dirty")
  endif()
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/git_commit.h.in" "${OUTPUT}" @ONLY)
