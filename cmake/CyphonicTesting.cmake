# Test helpers (STYLE.md §8, §9).
#
# cyphonic_add_test(name LABEL unit SOURCES a.cpp ... LIBS cyphonic::wire ...)
#   A GoogleTest binary registered with ctest (one ctest entry per TEST via gtest_discover_tests).
#
# cyphonic_add_fuzzer(name SOURCES a_fuzz.cpp LIBS ... CORPUS dir)
#   With CYPHONIC_BUILD_FUZZERS (clang): a libFuzzer binary `fuzz_<name>`.
#   Always: a replay binary `fuzz_<name>_replay` that ctest runs over the corpus (label fuzz),
#   so every test run re-checks every corpus input with the compiler in use.
include(GoogleTest)
# Included from the top-level CMakeLists, so ctest finds every test from the build root.
enable_testing()

if(CYPHONIC_BUILD_FUZZERS)
    # Instrument everything (the library too) so libFuzzer sees coverage inside the decoders.
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all)
    add_link_options(-fsanitize=address,undefined)
endif()

function(cyphonic_add_test name)
    cmake_parse_arguments(ARG "" "LABEL" "SOURCES;LIBS" ${ARGN})
    if(NOT CYPHONIC_BUILD_TESTS)
        return()
    endif()
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_LIBS} cyphonic_test_support GTest::gtest
                                          GTest::gtest_main cyphonic::warnings)
    if(NOT ARG_LABEL)
        set(ARG_LABEL unit)
    endif()
    gtest_discover_tests(${name} TEST_PREFIX "${name}." PROPERTIES LABELS ${ARG_LABEL}
                         DISCOVERY_TIMEOUT 60)
endfunction()

function(cyphonic_add_fuzzer name)
    cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;LIBS" ${ARGN})
    if(NOT CYPHONIC_BUILD_TESTS)
        return()
    endif()
    add_executable(fuzz_${name}_replay ${ARG_SOURCES} ${CYPHONIC_FUZZ_DIR}/replay_main.cpp)
    target_link_libraries(fuzz_${name}_replay PRIVATE ${ARG_LIBS} cyphonic::warnings)
    add_test(NAME fuzz_${name}_corpus
             COMMAND fuzz_${name}_replay ${ARG_CORPUS})
    set_tests_properties(fuzz_${name}_corpus PROPERTIES LABELS fuzz)
    if(CYPHONIC_BUILD_FUZZERS)
        if(NOT TARGET fuzzers)
            add_custom_target(fuzzers)  # `cmake --build --target fuzzers`: only the fuzz targets
        endif()
        add_executable(fuzz_${name} ${ARG_SOURCES})
        add_dependencies(fuzzers fuzz_${name})
        target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
        target_link_libraries(fuzz_${name} PRIVATE ${ARG_LIBS} cyphonic::warnings)
    endif()
endfunction()
