from django import forms
from django.utils.translation import gettext_lazy as _

RATINGS = [(i, "★" * i) for i in range(5, 0, -1)]


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Rating"), choices=RATINGS, coerce=int, widget=forms.RadioSelect)
    text = forms.CharField(label=_("Review"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 5}))
