"""Deep linking: the picker a trainer sees when adding medienwerk to a course (LtiDeepLinkingRequest)."""
