"""miniprogram_api"""
