# Warning flags shared by every CYPHONIC target (STYLE.md §10). Link `cyphonic::warnings`
# privately; `cyphonic::strict_warnings` adds -Wconversion for the wire and crypto modules.
# CI configures with -DCMAKE_COMPILE_WARNING_AS_ERROR=ON.
add_library(cyphonic_warnings INTERFACE)
add_library(cyphonic::warnings ALIAS cyphonic_warnings)
target_compile_options(cyphonic_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow)

add_library(cyphonic_strict_warnings INTERFACE)
add_library(cyphonic::strict_warnings ALIAS cyphonic_strict_warnings)
target_link_libraries(cyphonic_strict_warnings INTERFACE cyphonic_warnings)
target_compile_options(cyphonic_strict_warnings INTERFACE -Wconversion -Wsign-conversion)

# GCC 12 at -O2 reports -Wmismatched-new-delete on every Asio coroutine frame: Asio's
# awaitable_frame_base pairs its own operator new/delete, which GCC's coroutine lowering hides
# from the check (GCC PR 109224). The warning stays on for clang.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(cyphonic_warnings INTERFACE -Wno-mismatched-new-delete)
endif()
