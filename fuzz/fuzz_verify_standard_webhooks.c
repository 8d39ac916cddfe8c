/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the standard-webhooks webhook verifier and event-identity extractor
 * (src/integrations/): headers and body from the input, see webhook_fuzz.h.
 * Built and run by scripts/fuzz.sh; seeds in fuzz/corpus/fuzz_verify_standard_webhooks/.
 */
#include "webhook_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return webhook_fuzz_one("standard-webhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", data,
                            size);
}
