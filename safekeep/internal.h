/*
 * internal.h — private to safekeep/.
 */
#ifndef RV_SAFEKEEP_INTERNAL_H
#define RV_SAFEKEEP_INTERNAL_H

#include "safekeep/safekeep.h"

/* One safekeeping run over items, towards one destination store. */
struct sk_run {
	const struct safekeep_options *o;
	struct safekeep_item *v;
	size_t n;
	int64_t now;
	int64_t store_id;
	struct oci_store *dst;
	char **dst_repo;              /* per item: its repository at the destination */
	int *copy;                    /* per item: goes through the copy engine */
	struct xfer_result *res;      /* per item: what the copy engine did */
	/* Called for item i as soon as the copy engine finished its image
	 * (XFER_IMAGE_DONE, rc 0: res is complete), while other images' blobs
	 * are still moving; NULL for none. The standby reads the copy back
	 * here, so its round trips overlap the transfers. */
	void (*on_copied)(struct sk_run *r, size_t i, const struct xfer_result *res);
	int *checked;                 /* per item: on_copied verified it */
};

void sk_run_init(struct sk_run *r, const struct safekeep_options *o, struct safekeep_item *v,
                 size_t n);
void sk_run_release(struct sk_run *r);
/* Copies every item with copy[i] set from its source registry to dst. */
void sk_copy(struct sk_run *r);
void sk_counts(struct safekeep_item *it, const struct xfer_result *res);
struct catalog_image_manifest *sk_manifests(const struct xfer_result *res,
                                            struct oci_store *store, const char *repo);
size_t sk_failed(const struct safekeep_item *v, size_t n);

#endif
