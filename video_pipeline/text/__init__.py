"""Small text utilities shared by the offline providers and the stages."""
