"""The service layer shared by the registry, the root, the issuer and the verifier node."""
