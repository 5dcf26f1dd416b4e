"""Tests of the GitLab component and classic include, run by gitlab-ci-local."""
