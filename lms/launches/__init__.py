"""LTI entry points (/lti/login, /lti/launch, /lti/jwks) and the launch session that carries a user
through the tool's pages without cookies."""
