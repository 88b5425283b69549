/* claims.h — verdicts on the buyer's-guide claims C1–C9 (docs/claims.md) from result sets and cards.
 * Implementation: src/analysis/claims.c. Reads result files and suites only, never a backend. */
#ifndef SDMARK_CLAIMS_H
#define SDMARK_CLAIMS_H

#include <stdio.h>
#include "sdmark/cards.h"
#include "sdmark/result_set.h"
#include "sdmark/text_util.h"

enum sd_verdict { SD_V_SUPPORTED, SD_V_REFUTED, SD_V_PARTLY, SD_V_NO_DATA };
const char *sd_verdict_name(enum sd_verdict v);

#define SD_NCLAIMS 9
struct sd_claim_result {
    char id[4];
    const char *claim;
    enum sd_verdict verdict;
    char *evidence;      /* owned, lines separated by '\n' */
    char *basis;         /* "measured on X; projected from spec for Y" */
};
/* Evaluate C1..C9 from a result set (may be empty), cards and suites found in bench dir. */
int sd_claims_eval(const struct sd_rset *s, const struct sd_cards *cards, struct sd_claim_result out[SD_NCLAIMS],
                   char *err, size_t errlen);
void sd_claims_free(struct sd_claim_result out[SD_NCLAIMS]);
/* Table + evidence (text), a JSON list of {id, claim, verdict, evidence[], basis}, or a markdown
 * table (src/analysis/claims_print.c). */
void sd_claims_print(FILE *f, const struct sd_claim_result *c, enum sd_format fmt);

#endif
