"""Custom Rasa components. Importing this package (Rasa does, to load the model) also
applies the performance fixes of ``bot.rasa_patches``."""

from bot import rasa_patches

rasa_patches.apply()
