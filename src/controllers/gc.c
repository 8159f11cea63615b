/* gc.c — placeholder. */
#include "controllers/controllers-internal.h"

void gc_controller_init(struct controller *c)
{
        c->name = "gc";
}
