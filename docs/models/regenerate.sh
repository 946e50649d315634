#!/bin/sh
# Regenerates docs/models/accounting.md from the code (run from the repository root).
# ETNNTests.AccountingTests.testAccountingDocIsUpToDate fails when the committed file differs.
set -e
swift build --scratch-path .build-nn --product etrack
.build-nn/debug/etrack models --accounting-markdown > docs/models/accounting.md
