# Warnings on for every svdit target (svdit_set_warnings(target)); third-party headers come in as SYSTEM.
set(SVDIT_WARNINGS_AS_ERRORS OFF CACHE BOOL "Treat compiler warnings as errors")

function(svdit_set_warnings target)
  set(cxx_flags -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(SVDIT_WARNINGS_AS_ERRORS)
    list(APPEND cxx_flags -Werror)
  endif()
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${cxx_flags}>)
endfunction()
