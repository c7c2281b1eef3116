/* Who is calling: an API key (admin, agent, seller) or a buyer token, both given as
 * "Authorization: Bearer …" and found by their SHA-256, so checking one never costs a password
 * hash. */
#ifndef KM_AUTH_H
#define KM_AUTH_H

#include "http/api.h"

/* Fill r->auth from the Authorization header. 0, or 401 answered for credentials that match
 * nothing (absent credentials are AUTH_NONE, not an error). */
int auth_resolve(struct api_req *r);
const char *auth_role_name(enum auth_role role);

#endif
