/* job.c — placeholder. */
#include "controllers/controllers-internal.h"

void job_controller_init(struct controller *c)
{
        c->name = "job";
}
