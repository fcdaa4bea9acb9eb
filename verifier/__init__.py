"""iamverify: a formal verifier for AWS IAM policies."""

__version__ = "0.1.0"
