// Table-driven tests name each case by its `label` field: in test names (label_of) and in failure output
// (PrintTo, instead of a dump of the case's bytes). PrintTo is found by argument-dependent lookup, so it must
// live in the namespace of the case types: expand DIGESTFLOW_LABELLED_CASES() there.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#define DIGESTFLOW_LABELLED_CASES()                                                                            \
    template <class Case>                                                                                      \
    std::string label_of(const testing::TestParamInfo<Case>& info) {                                           \
        return info.param.label;                                                                               \
    }                                                                                                          \
    template <class Case>                                                                                      \
        requires requires(const Case& c) { c.label; }                                                          \
    void PrintTo(const Case& c, std::ostream* os) {                                                            \
        *os << c.label;                                                                                        \
    }
