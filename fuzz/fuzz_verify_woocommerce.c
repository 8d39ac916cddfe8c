/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the woocommerce webhook verifier and event-identity extractor
 * (src/integrations/): headers and body from the input, see webhook_fuzz.h.
 * Built and run by scripts/fuzz.sh; seeds in fuzz/corpus/fuzz_verify_woocommerce/.
 */
#include "webhook_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return webhook_fuzz_one("woocommerce", "fuzz-woocommerce-secret", data, size);
}
