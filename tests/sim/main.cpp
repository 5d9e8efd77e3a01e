// The sim_tests binary: doctest's main. Scenarios print their seed on failure
// (docs/architecture.md, "Tests": "A failure prints its seed").
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
